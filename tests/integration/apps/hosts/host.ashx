<%@ WebHandler Language="C#" Class="HostHandler" %>
// "HOST PID T0": the server's NETNS_HOST environment variable, the worker's
// pid and when the request reached the handler (Unix time, ms), after which
// it waits ?sleep=MS (at most 5 s) to keep requests in flight.
using System;
using System.Web;

public class HostHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		long t0 = (DateTime.UtcNow.Ticks - new DateTime (1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks) / 10000;
		int sleep;
		if (int.TryParse (context.Request.QueryString ["sleep"], out sleep) && sleep > 0)
			System.Threading.Thread.Sleep (Math.Min (sleep, 5000));
		context.Response.ContentType = "text/plain";
		context.Response.Write ((Environment.GetEnvironmentVariable ("NETNS_HOST") ?? "?") + " " +
			System.Diagnostics.Process.GetCurrentProcess ().Id + " " + t0);
	}
}
