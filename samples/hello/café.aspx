<%@ Page Language="C#" %>
<%@ Register Src="~/paths.ascx" TagPrefix="s" TagName="Paths" %>
<!DOCTYPE html>
<html>
<head><meta charset="utf-8" /><title>scgi-mono sample: paths</title></head>
<body>
<p>How this request's URL looks to ASP.NET (try <a href="page.aspx/extra/info?q=1">page.aspx/extra/info?q=1</a>):</p>
<s:Paths runat="server" />
</body>
</html>
