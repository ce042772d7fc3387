<%@ WebHandler Language="C#" Class="GateHandler" %>
// 500 while the file named by ?closed= exists, else 200.
using System;
using System.IO;
using System.Web;

public class GateHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		string closed = context.Request.QueryString ["closed"];
		if (closed != null && File.Exists (closed))
			throw new InvalidOperationException ("warm-up test: the gate is closed");
		context.Response.ContentType = "text/plain";
		context.Response.Write ("open");
	}
}
