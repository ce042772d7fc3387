<%@ WebHandler Language="C#" Class="BenchSession" %>
// The session page of the benchmark: a read-write session (IRequiresSessionState, so the
// session is locked for the request), Session["n"] += 1 per request. Answers "n sessionid",
// or "0 -" where session state is off (sessionState mode="Off": context.Session is null).
using System.Web;
using System.Web.SessionState;

public class BenchSession : IHttpHandler, IRequiresSessionState
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		context.Response.ContentType = "text/plain";
		HttpSessionState s = context.Session;
		if (s == null) {
			context.Response.Write ("0 -");
			return;
		}
		object o = s ["n"];
		int n = (o == null ? 0 : (int) o) + 1;
		s ["n"] = n;
		context.Response.Write (n.ToString () + " " + s.SessionID);
	}
}
