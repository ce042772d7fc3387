<%@ Application Language="C#" %>
<script runat="server">
	// The test rewrites this constant to see which Global.asax the domain compiled.
	public const string Tag = "global-0";
	void Application_Start (object sender, EventArgs e)
	{
		Application ["global"] = Tag;
	}
</script>
