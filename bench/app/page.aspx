<%@ Page Language="C#" %>
<%-- A small WebForms page: a server form with a few controls, view state and
     event validation, about 2 KiB of HTML. The benchmark checks the marker at the end. --%>
<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8" />
    <title>scgi-mono benchmark page</title>
    <script runat="server">
        protected void Page_Load (object sender, EventArgs e)
        {
            if (!IsPostBack)
                Greeting.Text = "Welcome. The time on the server is " + DateTime.UtcNow.ToString ("yyyy-MM-dd HH:mm") + " UTC.";
        }

        protected void Send_Click (object sender, EventArgs e)
        {
            Greeting.Text = "Hello, " + HttpUtility.HtmlEncode (Name.Text) + "!";
        }
    </script>
</head>
<body>
    <h1>Benchmark page</h1>
    <p>This page is served by ASP.NET WebForms. It has a server-side form with two text boxes,
    a drop-down list and a button, and a label that shows the result of a postback.</p>
    <form id="MainForm" runat="server">
        <fieldset>
            <legend>Tell us who you are</legend>
            <p>
                <label for="Name">Your name:</label>
                <asp:TextBox ID="Name" runat="server" MaxLength="40" />
            </p>
            <p>
                <label for="Color">Favourite colour:</label>
                <asp:DropDownList ID="Color" runat="server">
                    <asp:ListItem Text="Red" Value="red" />
                    <asp:ListItem Text="Green" Value="green" />
                    <asp:ListItem Text="Blue" Value="blue" Selected="True" />
                    <asp:ListItem Text="Yellow" Value="yellow" />
                </asp:DropDownList>
            </p>
            <p>
                <label for="Email">E-mail:</label>
                <asp:TextBox ID="Email" runat="server" MaxLength="80" />
            </p>
            <p><asp:Button ID="Send" runat="server" Text="Send" OnClick="Send_Click" /></p>
        </fieldset>
        <p><asp:Label ID="Greeting" runat="server" /></p>
        <p><asp:HyperLink ID="Home" runat="server" NavigateUrl="~/hello.ashx" Text="The one-line handler" /></p>
    </form>
    <!-- bench-page-end -->
</body>
</html>
