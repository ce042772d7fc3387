<%@ WebHandler Language="C#" Class="SecretHandler" %>
// Behind forms authentication (web.config denies "?" here): the anonymous are
// redirected to login.ashx. Answers "HOST PID T0 secret NAME" (no session state).
using System;
using System.Web;

public class SecretHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		long t0 = (DateTime.UtcNow.Ticks - new DateTime (1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks) / 10000;
		context.Response.ContentType = "text/plain";
		context.Response.Write ((Environment.GetEnvironmentVariable ("NETNS_HOST") ?? "?") + " " +
			System.Diagnostics.Process.GetCurrentProcess ().Id + " " + t0 + " secret " + context.User.Identity.Name);
	}
}
