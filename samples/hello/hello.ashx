<%@ WebHandler Language="C#" Class="HelloHandler" %>
public class HelloHandler : System.Web.IHttpHandler { public bool IsReusable { get { return true; } } public void ProcessRequest(System.Web.HttpContext context) { context.Response.ContentType = "text/plain"; context.Response.Write("Hello, World"); } }
