// The MVC sample's routes. Compiled with the controllers into bin/MvcSample.dll
// by the Makefile (make samples -> build/samples/mvc).
using System.Web;
using System.Web.Mvc;
using System.Web.Routing;

namespace MvcSample
{
	public class MvcApplication : HttpApplication
	{
		public static void RegisterRoutes (RouteCollection routes)
		{
			routes.IgnoreRoute ("{resource}.axd/{*pathInfo}");
			// Values with dots: "/users/john.doe/edit", "/api/v1.2/items".
			routes.MapRoute ("User", "users/{name}/{action}",
			                 new { controller = "Users", action = "Show" },
			                 new[] { "MvcSample.Controllers" });
			routes.MapRoute ("Api", "api/{version}/{resource}",
			                 new { controller = "Api", action = "List" },
			                 new[] { "MvcSample.Controllers" });
			routes.MapRoute ("Default", "{controller}/{action}/{id}",
			                 new { controller = "Home", action = "Index", id = UrlParameter.Optional },
			                 new[] { "MvcSample.Controllers" });
		}

		protected void Application_Start ()
		{
			AreaRegistration.RegisterAllAreas ();
			RegisterRoutes (RouteTable.Routes);
		}
	}
}
