<%@ WebHandler Language="C#" Class="ThrowHandler" %>
// Always fails: an unhandled exception, 500.
using System;
using System.Web;

public class ThrowHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		throw new InvalidOperationException ("warm-up test: this handler always throws");
	}
}
