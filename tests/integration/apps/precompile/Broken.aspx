<%@ Page Language="C#" %>
<script runat="server">
	protected override void OnLoad (System.EventArgs e)
	{
		base.OnLoad (e);
		Response.Write (thisNameDoesNotExist);
	}
</script>
