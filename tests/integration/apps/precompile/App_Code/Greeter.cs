// Built at the application's start; the pages use it.
public static class Greeter
{
	public static string Hello (string who)
	{
		return "hello " + who;
	}
}
