<%@ Application Language="C#" %>
<script runat="server">
    protected void Application_Start(object sender, EventArgs e)
    {
        Application["started"] = DateTime.UtcNow.ToString("o");
    }

    protected void Application_BeginRequest(object sender, EventArgs e)
    {
        Response.AppendHeader("X-Sample", "hello");
    }

    // ASP.NET clears the response headers when it renders an error page
    // (404, 403, 500, ...), which drops the header added above; put it back
    // just before the headers go out so that every response carries it.
    protected void Application_PreSendRequestHeaders(object sender, EventArgs e)
    {
        if (Response.Headers["X-Sample"] == null)
            Response.AppendHeader("X-Sample", "hello");
    }
</script>
