<%@ Application Inherits="MvcSample.MvcApplication" Language="C#" %>
