<%@ WebHandler Language="C#" Class="BenchUpload" %>
// Reads the whole request body from InputStream and answers its length in bytes.
using System.Web;

public class BenchUpload : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		var input = context.Request.InputStream;
		var buf = new byte [65536];
		long total = 0;
		int n;
		while ((n = input.Read (buf, 0, buf.Length)) > 0)
			total += n;
		context.Response.ContentType = "text/plain";
		context.Response.Write (total.ToString ());
	}
}
