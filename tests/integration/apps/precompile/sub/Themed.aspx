<%@ Page Language="C#" Theme="Blue" %>
<html><head runat="server"><title>themed</title></head><body>
<asp:Label id="L" runat="server" Text="themed label" />
</body></html>
