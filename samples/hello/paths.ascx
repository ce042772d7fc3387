<%@ Control Language="C#" %>
<%-- A user control for the sample pages: what ASP.NET makes of the request's
     URL, one "key=value" line each (tests compare it across front ends). --%>
<pre id="paths">
path=<%= HttpUtility.HtmlEncode(Request.Path) %>
pathinfo=<%= HttpUtility.HtmlEncode(Request.PathInfo) %>
filepath=<%= HttpUtility.HtmlEncode(Request.FilePath) %>
apppath=<%= HttpUtility.HtmlEncode(Request.ApplicationPath) %>
rawurl=<%= HttpUtility.HtmlEncode(Request.RawUrl) %>
url=<%= HttpUtility.HtmlEncode(Request.Url.AbsoluteUri) %>
mappath=<%= HttpUtility.HtmlEncode(Request.MapPath(Request.FilePath)) %>
approot=<%= HttpUtility.HtmlEncode(Server.MapPath("~/")) %>
query=<%= HttpUtility.HtmlEncode(Request.QueryString.ToString()) %>
</pre>
