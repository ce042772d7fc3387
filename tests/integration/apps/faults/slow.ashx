<%@ WebHandler Language="C#" Class="SlowHandler" %>
// A slow request with recognisable frames for the slow-request log:
// ProcessRequest -> LoadOrders -> WaitForTheDatabase, which sleeps ?ms=MS
// (default 3000) milliseconds.
using System.Runtime.CompilerServices;
using System.Threading;
using System.Web;

public class SlowHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		string ms = context.Request.QueryString ["ms"];
		context.Response.ContentType = "text/plain";
		context.Response.Write (LoadOrders (ms != null ? int.Parse (ms) : 3000));
	}

	[MethodImpl (MethodImplOptions.NoInlining)]
	static string LoadOrders (int ms)
	{
		WaitForTheDatabase (ms);
		return "orders";
	}

	[MethodImpl (MethodImplOptions.NoInlining)]
	static void WaitForTheDatabase (int ms)
	{
		Thread.Sleep (ms);
	}
}
