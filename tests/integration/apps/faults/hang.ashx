<%@ WebHandler Language="C#" Class="HangHandler" %>
// A request that never ends: two threads deadlock on two locks (the handler
// waits for them), beyond ASP.NET's executionTimeout's reach... and
// ?sleep=MS sleeps that long instead.
using System;
using System.Threading;
using System.Web;

public class HangHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	static readonly object a = new object (), b = new object ();

	public void ProcessRequest (HttpContext context)
	{
		string sleep = context.Request.QueryString ["sleep"];
		if (sleep != null) {
			Thread.Sleep (int.Parse (sleep));
		} else {
			var t1 = new Thread (() => { lock (a) { Thread.Sleep (200); lock (b) { } } });
			var t2 = new Thread (() => { lock (b) { Thread.Sleep (200); lock (a) { } } });
			t1.IsBackground = t2.IsBackground = true;
			t1.Start (); t2.Start ();
			t1.Join ();
		}
		context.Response.Write ("finished");
	}
}
