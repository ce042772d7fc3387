<%@ WebHandler Language="C#" Class="RulesHandler" %>
// One response per ?case=: what the server must frame honestly whatever the
// application says (README "Response rules").
using System.Web;

public class RulesHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	// 65 bytes, as in the issue's report.
	const string Body = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?\n";

	public void ProcessRequest (HttpContext context)
	{
		HttpResponse r = context.Response;
		r.ContentType = "text/plain";
		switch (context.Request.QueryString ["case"]) {
		case "long":         // announces 2, writes 65
			r.AddHeader ("Content-Length", "2");
			r.Write (Body);
			break;
		case "short":        // announces 1000, writes 65
			r.AddHeader ("Content-Length", "1000");
			r.Write (Body);
			break;
		case "short-flushed": // announces 100000, writes 65 and flushes (streaming path)
			r.AddHeader ("Content-Length", "100000");
			r.Write (Body);
			r.Flush ();
			break;
		case "te":           // its own Transfer-Encoding beside the server's framing
			r.AddHeader ("Transfer-Encoding", "chunked");
			r.Write (Body);
			break;
		case "204":
			r.StatusCode = 204;
			r.Write (Body);
			break;
		case "304":
			r.StatusCode = 304;
			r.Write (Body);
			break;
		case "205":          // RFC 9110 15.3.6: no content, whatever is written
			r.StatusCode = 205;
			r.Write (Body);
			break;
		case "205-length":   // and whatever length is announced
			r.StatusCode = 205;
			r.AddHeader ("Content-Length", "65");
			r.Write (Body);
			break;
		case "1xx":          // not a final status
			r.StatusCode = 101;
			r.Write (Body);
			break;
		case "flush-more":   // flushes one byte, then writes more: GET is chunked
			r.Write ("x");
			r.Flush ();
			r.Write (Body);
			break;
		case "status-crlf":
			r.StatusDescription = "OK\r\nX-Injected: yes";
			r.Write (Body);
			break;
		case "value-crlf":
			r.AddHeader ("X-Value", "a\r\nX-Injected: yes\0z");
			r.Write (Body);
			break;
		case "name-crlf":
			r.AddHeader ("X-Name\r\nX-Injected", "yes");
			r.AddHeader ("Bad Name", "v");
			r.AddHeader ("X-After", "ok");
			r.Write (Body);
			break;
		default:
			r.Write ("next\n");
			break;
		}
	}
}
