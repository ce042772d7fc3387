<%@ Page Language="C#" %>
<p>third <%= Greeter.Hello ("third") %></p>
