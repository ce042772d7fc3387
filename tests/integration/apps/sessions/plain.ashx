<%@ WebHandler Language="C#" Class="PlainHandler" %>
// No session state: served whether or not the session store is up.
using System.Web;

public class PlainHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		context.Response.ContentType = "text/plain";
		context.Response.Write ("plain " + System.Diagnostics.Process.GetCurrentProcess ().Id);
	}
}
