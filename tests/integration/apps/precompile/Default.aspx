<%@ Page Language="C#" MasterPageFile="~/Site.master" %>
<%@ Register TagPrefix="t" TagName="Greeting" Src="~/Controls/Greeting.ascx" %>
<asp:Content ContentPlaceHolderID="Main" runat="server">
<t:Greeting runat="server" Who="default" />
<p>default page</p>
</asp:Content>
