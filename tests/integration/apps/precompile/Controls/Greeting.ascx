<%@ Control Language="C#" %>
<script runat="server">
	public string Who = "control";
</script>
<p class="greeting"><%= Greeter.Hello (Who) %></p>
