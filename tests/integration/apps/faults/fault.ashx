<%@ WebHandler Language="C#" Class="FaultHandler" %>
// Faults that end the worker process, as applications cause them:
// ?kind=failfast (Environment.FailFast) or ?kind=thread (an unhandled
// exception on a background thread).
using System;
using System.Threading;
using System.Web;

public class FaultHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		switch (context.Request.QueryString ["kind"]) {
		case "failfast":
			Environment.FailFast ("test_55: FailFast from a handler");
			break;
		case "thread":
			new Thread (() => { throw new InvalidOperationException ("test_55: unhandled on a background thread"); }).Start ();
			Thread.Sleep (5000);
			break;
		}
		context.Response.Write ("still alive");
	}
}
