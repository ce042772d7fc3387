<%@ Page Language="C#" %>
<%= doesNotCompile %>
