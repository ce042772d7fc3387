<%@ WebHandler Language="C#" Class="PidHandler" %>
// The id of the worker process that serves the request (?sleep=MS first).
using System.Web;

public class PidHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		string sleep = context.Request.QueryString ["sleep"];
		if (sleep != null)
			System.Threading.Thread.Sleep (int.Parse (sleep));
		context.Response.ContentType = "text/plain";
		context.Response.Write (System.Diagnostics.Process.GetCurrentProcess ().Id.ToString ());
	}
}
