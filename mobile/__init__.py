"""The ShopGuard phone and web app (Flet). It talks to the server only through the API in
`shared/`; the screens arrive with the app's own issue."""
