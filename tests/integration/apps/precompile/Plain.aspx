<%@ Page Language="C#" %>
<script runat="server">
	protected override void OnLoad (System.EventArgs e)
	{
		base.OnLoad (e);
		Response.Write ("plain " + (2 * 21));
	}
</script>
