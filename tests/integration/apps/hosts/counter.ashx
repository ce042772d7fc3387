<%@ WebHandler Language="C#" Class="CounterHandler" %>
// "HOST PID T0 N SESSIONID": host.ashx's first three fields, then the
// session's counter after Session["n"] += 1 (read-write session state, in Redis).
using System;
using System.Web;
using System.Web.SessionState;

public class CounterHandler : IHttpHandler, IRequiresSessionState
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		long t0 = (DateTime.UtcNow.Ticks - new DateTime (1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks) / 10000;
		object o = context.Session ["n"];
		int n = (o == null ? 0 : (int) o) + 1;
		context.Session ["n"] = n;
		context.Response.ContentType = "text/plain";
		context.Response.Write ((Environment.GetEnvironmentVariable ("NETNS_HOST") ?? "?") + " " +
			System.Diagnostics.Process.GetCurrentProcess ().Id + " " + t0 + " " + n + " " + context.Session.SessionID);
	}
}
