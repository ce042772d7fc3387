<%@ WebHandler Language="C#" Class="AbandonHandler" %>
// Session.Abandon (): the store removes the session.
using System.Web;
using System.Web.SessionState;

public class AbandonHandler : IHttpHandler, IRequiresSessionState
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		string id = context.Session.SessionID;
		context.Session.Abandon ();
		context.Response.ContentType = "text/plain";
		context.Response.Write ("abandoned " + id);
	}
}
