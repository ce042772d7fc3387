<%@ Page Language="C#" %>
<%@ Register Src="~/paths.ascx" TagPrefix="s" TagName="Paths" %>
<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8" />
    <title>scgi-mono sample: dir</title>
</head>
<body>
    <p>dir default page</p>
    <p><a href="../">Back</a></p>
<s:Paths runat="server" />
</body>
</html>
