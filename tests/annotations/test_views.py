from django.urls import reverse


def test_the_demo_study_page_shows_its_artworks_to_its_owner(client, demo_study):
    client.post("/accounts/login/", {"username": "demo", "password": "demo"})  # the demo's known login
    response = client.get(reverse("annotations:study_detail", args=["demo"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Demo: synthetic paintings" in page
    assert page.count('<div class="card">') == 24
    first = demo_study.artworks.first()
    assert first.image.url in page and "Synthetic dots study 1" in page
    assert "<b>1344</b>judgements" in page


def test_the_study_list_links_to_the_demo_study(client, demo_study):
    client.post("/accounts/login/", {"username": "demo", "password": "demo"})  # the demo's known login
    response = client.get(reverse("annotations:study_list"))
    assert reverse("annotations:study_detail", args=["demo"]) in response.content.decode()


def test_an_outsider_researcher_gets_404_on_a_study_they_do_not_own(client, demo_study, outsider):
    client.force_login(outsider)
    assert client.get(reverse("annotations:study_detail", args=["demo"])).status_code == 404
    assert "demo" not in client.get(reverse("annotations:study_list")).content.decode().split("<main>")[1]


def test_anonymous_visitors_are_sent_to_login(client, demo_study):
    response = client.get(reverse("annotations:study_detail", args=["demo"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
