using System.Web.Mvc;

namespace MvcSample.Controllers
{
	// users/{name}/{action}: names with dots ("john.doe").
	public class UsersController : Controller
	{
		public ActionResult Show (string name)
		{
			return View ("Info");
		}

		public ActionResult Edit (string name)
		{
			return View ("Info");
		}
	}
}
