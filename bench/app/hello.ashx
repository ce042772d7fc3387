<%@ WebHandler Language="C#" Class="BenchHello" %>
// The one-line handler: the cheapest thing ASP.NET can serve.
public class BenchHello : System.Web.IHttpHandler { public bool IsReusable { get { return true; } } public void ProcessRequest (System.Web.HttpContext context) { context.Response.ContentType = "text/plain"; context.Response.Write ("Hello, World"); } }
