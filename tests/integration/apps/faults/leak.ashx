<%@ WebHandler Language="C#" Class="LeakHandler" %>
// A leaking application: 32 MiB per request into a static list (touched, so
// that it is resident), never freed. Answers the worker's pid.
using System.Collections.Generic;
using System.Web;

public class LeakHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	static readonly List<byte[]> kept = new List<byte[]> ();

	public void ProcessRequest (HttpContext context)
	{
		var block = new byte [32 << 20];
		for (int i = 0; i < block.Length; i += 4096)
			block [i] = 1;
		lock (kept)
			kept.Add (block);
		context.Response.ContentType = "text/plain";
		context.Response.Write (System.Diagnostics.Process.GetCurrentProcess ().Id.ToString ());
	}
}
