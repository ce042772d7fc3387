<%@ WebHandler Language="C#" Class="RunHandler" %>
// Counts the requests running at once in this worker: answers
// "running=N threads=T" where N is the count when this one started (itself
// included) and T the worker's pool threads seen so far. ?sleep=MS blocks
// that long (a database, a remote call); ?spin=MS stays that long on the CPU
// without allocating (no GC to stop the world); ?churn=MS stays that long on
// the CPU allocating garbage (collections stop the world many times).
using System.Collections.Generic;
using System.Threading;
using System.Web;

public class RunHandler : IHttpHandler
{
	static int running;
	static readonly HashSet<int> threads = new HashSet<int> ();

	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		int n = Interlocked.Increment (ref running);
		int seen;
		lock (threads) {
			threads.Add (Thread.CurrentThread.ManagedThreadId);
			seen = threads.Count;
		}
		try {
			string sleep = context.Request.QueryString ["sleep"];
			string spin = context.Request.QueryString ["spin"];
			string churn = context.Request.QueryString ["churn"];
			if (sleep != null)
				Thread.Sleep (int.Parse (sleep));
			if (spin != null)
				Spin (int.Parse (spin));
			if (churn != null)
				Churn (int.Parse (churn));
		} finally {
			Interlocked.Decrement (ref running);
		}
		context.Response.ContentType = "text/plain";
		context.Response.Write ("running=" + n + " threads=" + seen);
	}

	static long Churn (int ms)
	{
		var sw = System.Diagnostics.Stopwatch.StartNew ();
		var keep = new List<byte[]> ();
		long total = 0;
		while (sw.ElapsedMilliseconds < ms) {
			var a = new byte [512 + (int) (total & 4095)];
			total += a.Length;
			keep.Add (a);
			if (keep.Count > 256)
				keep.Clear ();
		}
		return total;
	}

	static long Spin (int ms)
	{
		var sw = System.Diagnostics.Stopwatch.StartNew ();
		long x = 0;
		while (sw.ElapsedMilliseconds < ms)
			for (int i = 0; i < 1000; i++)
				x += i ^ x;
		return x;
	}
}
