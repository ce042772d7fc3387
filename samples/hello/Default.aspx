<%@ Page Language="C#" %>
<%@ Register Src="~/paths.ascx" TagPrefix="s" TagName="Paths" %>
<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8" />
    <title>scgi-mono sample</title>
    <link rel="stylesheet" type="text/css" href="style.css" />
    <script runat="server">
        protected void Send_Click(object sender, EventArgs e)
        {
            Result.Text = "Hello, " + HttpUtility.HtmlEncode(Name.Text) + "!";
        }
    </script>
</head>
<body>
    <h1>scgi-mono sample</h1>
    <ul>
        <li><a href="CodeBehind.aspx">Code-behind page</a></li>
        <li><a href="hello.ashx">hello.ashx (plain text handler)</a></li>
        <li><a href="echo.ashx/extra/info?q=1">echo.ashx (request echo)</a></li>
        <li><a href="throw.aspx">throw.aspx (server error)</a></li>
        <li><a href="dir/">dir/ (default document in a subdirectory)</a></li>
        <li><a href="style.css">style.css (static file)</a></li>
    </ul>
    <form id="MainForm" runat="server">
        <p>
            <label for="Name">Your name:</label>
            <asp:TextBox ID="Name" runat="server" />
            <asp:Button ID="Send" runat="server" Text="Send" OnClick="Send_Click" />
        </p>
        <p><asp:Label ID="Result" runat="server" /></p>
    </form>
<s:Paths runat="server" />
</body>
</html>
