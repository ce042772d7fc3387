using System;
using System.Web.UI;

namespace HelloSample
{
    public partial class CodeBehindPage : Page
    {
        protected void Page_Load(object sender, EventArgs e)
        {
            int a = 6, b = 7;
            Answer.Text = "Code-behind says: " + a + " x " + b + " = " + (a * b);
        }
    }
}
