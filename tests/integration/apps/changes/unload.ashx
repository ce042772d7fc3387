<%@ WebHandler Language="C#" Class="UnloadHandler" %>
// Unloads the application's AppDomain from user code, as some applications do
// to pick up their own changes (HttpRuntime.UnloadAppDomain).
using System.Web;

public class UnloadHandler : IHttpHandler
{
	public bool IsReusable { get { return false; } }

	public void ProcessRequest (HttpContext context)
	{
		context.Response.ContentType = "text/plain";
		context.Response.Write ("unloading");
		HttpRuntime.UnloadAppDomain ();
	}
}
