<%@ WebHandler Language="C#" Class="HelloHandler" %>
using System.Web;

public class HelloHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		context.Response.ContentType = "text/plain";
		context.Response.Write (Greeter.Hello ("handler"));
	}
}
