<%@ Page Language="C#" %>
<script runat="server">
    protected void Page_Load(object sender, EventArgs e)
    {
        throw new InvalidOperationException("sample failure");
    }
</script>
<!DOCTYPE html>
<html>
<head><title>never rendered</title></head>
<body><p>This text is never sent: Page_Load throws.</p></body>
</html>
