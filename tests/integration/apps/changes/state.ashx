<%@ WebHandler Language="C#" Class="StateHandler" %>
// "pid version global extra": the worker process, the appSetting Version of
// web.config, the tag Global.asax's Application_Start stored, and Marker.Value
// of bin/Extra.dll ("none" without it), as the serving AppDomain loaded them.
using System;
using System.Configuration;
using System.Web;

public class StateHandler : IHttpHandler
{
	public bool IsReusable { get { return true; } }

	public void ProcessRequest (HttpContext context)
	{
		Type marker = Type.GetType ("Extra.Marker, Extra");
		string extra = marker == null ? "none" : (string) marker.GetField ("Value").GetValue (null);
		context.Response.ContentType = "text/plain";
		context.Response.Write (String.Format ("{0} {1} {2} {3}", System.Diagnostics.Process.GetCurrentProcess ().Id,
		                                       ConfigurationManager.AppSettings ["Version"],
		                                       context.Application ["global"], extra));
	}
}
