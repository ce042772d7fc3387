<%@ WebHandler Language="C#" Class="SlowHandler" %>
// A slow request with recognisable frames for the slow-request log:
// ProcessRequest -> LoadOrders -> WaitForTheDatabase, which sleeps ?ms=MS
// (default 3000) milliseconds; ?spin=MS instead stays that long in managed
// code, allocating (CrunchTheNumbers: garbage collections while the stack is
// taken).
using System.Runtime.CompilerServices;
using System.Threading;
using System.Web;

public class SlowHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		string ms = context.Request.QueryString ["ms"];
		string spin = context.Request.QueryString ["spin"];
		context.Response.ContentType = "text/plain";
		if (spin != null) {
			context.Response.Write (CrunchTheNumbers (int.Parse (spin)));
			return;
		}
		context.Response.Write (LoadOrders (ms != null ? int.Parse (ms) : 3000));
	}

	[MethodImpl (MethodImplOptions.NoInlining)]
	static string LoadOrders (int ms)
	{
		WaitForTheDatabase (ms);
		return "orders";
	}

	[MethodImpl (MethodImplOptions.NoInlining)]
	static string CrunchTheNumbers (int ms)
	{
		var until = System.DateTime.UtcNow.AddMilliseconds (ms);
		long sum = 0;
		while (System.DateTime.UtcNow < until) {
			var junk = new int [64 + (int) (sum & 1023)];
			junk [0] = 1;
			sum += junk.Length;
		}
		return sum > 0 ? "crunched" : "none";
	}

	[MethodImpl (MethodImplOptions.NoInlining)]
	static void WaitForTheDatabase (int ms)
	{
		Thread.Sleep (ms);
	}
}
