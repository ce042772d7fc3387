<%@ Page Language="C#" EnableSessionState="ReadOnly" %>
<%-- Read-only session (no lock taken): "n pid sessionid", after ?sleep=MS. --%>
<script runat="server">
void Page_Load (object sender, EventArgs e)
{
	string sleep = Request.QueryString ["sleep"];
	if (sleep != null)
		System.Threading.Thread.Sleep (int.Parse (sleep));
	object o = Session ["n"];
	Response.ContentType = "text/plain";
	Response.Write ((o == null ? 0 : (int) o) + " " + System.Diagnostics.Process.GetCurrentProcess ().Id + " " + Session.SessionID);
	Response.End ();
}
</script>
