<%@ WebHandler Language="C#" Class="CountHandler" %>
// How many times this handler ran in this process (this call included), and
// the User-Agent of its first caller: a warm-up makes the first user's call 2.
using System.Threading;
using System.Web;

public class CountHandler : IHttpHandler
{
	static int calls;
	static string first;

	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		Interlocked.CompareExchange (ref first, context.Request.UserAgent ?? "", null);
		context.Response.ContentType = "text/plain";
		context.Response.Write (Interlocked.Increment (ref calls) + " " + first);
	}
}
