<%@ WebHandler Language="C#" Class="ExitHandler" %>
// Environment.Exit(3) from a handler: under Mono 6.8 embedded, the process
// stays alive and silent (issue 10); the supervisor's watchdog replaces it.
using System;
using System.Web;

public class ExitHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		int delay;
		if (int.TryParse (context.Request.QueryString ["delay"], out delay))
			System.Threading.Thread.Sleep (delay);
		Environment.Exit (3);
		context.Response.Write ("still alive");
	}
}
