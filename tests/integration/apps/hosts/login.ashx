<%@ WebHandler Language="C#" Class="LoginHandler" %>
// ?user=NAME: signs NAME in (a forms authentication ticket in the .T73AUTH
// cookie, signed and encrypted with the shared <machineKey>). Without a user:
// 401 (where secret.ashx sends the anonymous). Answers "HOST PID T0 login NAME".
using System;
using System.Web;
using System.Web.Security;

public class LoginHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		long t0 = (DateTime.UtcNow.Ticks - new DateTime (1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks) / 10000;
		string user = context.Request.QueryString ["user"];
		context.Response.ContentType = "text/plain";
		if (String.IsNullOrEmpty (user)) {
			context.Response.StatusCode = 401;
			context.Response.Write ("login required");
			return;
		}
		FormsAuthentication.SetAuthCookie (user, false);
		context.Response.Write ((Environment.GetEnvironmentVariable ("NETNS_HOST") ?? "?") + " " +
			System.Diagnostics.Process.GetCurrentProcess ().Id + " " + t0 + " login " + user);
	}
}
