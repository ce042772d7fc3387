<%@ Page Language="C#" CodeFile="CodeBehind.aspx.cs" Inherits="HelloSample.CodeBehindPage" %>
<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8" />
    <title>scgi-mono sample: code-behind</title>
    <link rel="stylesheet" type="text/css" href="style.css" />
</head>
<body>
    <h1>Code-behind</h1>
    <p><asp:Label ID="Answer" runat="server" /></p>
    <p><a href="./">Back</a></p>
</body>
</html>
