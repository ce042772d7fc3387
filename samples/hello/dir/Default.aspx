<%@ Page Language="C#" %>
<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8" />
    <title>scgi-mono sample: dir</title>
</head>
<body>
    <p>dir default page</p>
    <p><a href="../">Back</a></p>
</body>
</html>
