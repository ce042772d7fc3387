<%@ WebHandler Language="C#" Class="BenchBig" %>
// A 64 KiB text/plain response: 1024 lines of 64 bytes, line i being the
// 5-digit number i, a space, 57 letters and a newline. The benchmark checks it byte for byte.
using System.Text;
using System.Web;

public class BenchBig : IHttpHandler
{
	static readonly byte [] body = Make ();

	static byte [] Make ()
	{
		var sb = new StringBuilder (65536);
		for (int i = 0; i < 1024; i++) {
			sb.Append (i.ToString ("D5")).Append (' ');
			for (int j = 0; j < 57; j++)
				sb.Append ((char) ('a' + (i + j) % 26));
			sb.Append ('\n');
		}
		return Encoding.ASCII.GetBytes (sb.ToString ());
	}

	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		context.Response.ContentType = "text/plain";
		context.Response.OutputStream.Write (body, 0, body.Length);
	}
}
