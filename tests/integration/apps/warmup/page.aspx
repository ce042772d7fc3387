<%@ Page Language="C#" %>
<%-- Compiled by ASP.NET on its first request (the cost warm-up takes off the first user). --%>
<script runat="server">
	protected string Greeting () { return "compiled page " + System.Diagnostics.Process.GetCurrentProcess ().Id; }
</script>
<html><body><p><%= Greeting () %></p>
<% for (int i = 0; i < 3; i++) { %><span><%= i %></span><% } %>
</body></html>
