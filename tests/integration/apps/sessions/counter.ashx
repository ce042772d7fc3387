<%@ WebHandler Language="C#" Class="CounterHandler" %>
// Read-write session: Session["n"] += 1, then (?sleep=MS) holds the session
// lock that long. Answers "n pid sessionid".
using System.Web;
using System.Web.SessionState;

public class CounterHandler : IHttpHandler, IRequiresSessionState
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		object o = context.Session ["n"];
		int n = (o == null ? 0 : (int) o) + 1;
		context.Session ["n"] = n;
		string sleep = context.Request.QueryString ["sleep"];
		if (sleep != null)
			System.Threading.Thread.Sleep (int.Parse (sleep));
		context.Response.ContentType = "text/plain";
		context.Response.Write (n + " " + System.Diagnostics.Process.GetCurrentProcess ().Id + " " + context.Session.SessionID);
	}
}
