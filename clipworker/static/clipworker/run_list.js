// The run page's quick picks: a button fills the model field with its model's name.
document.querySelectorAll("button.pick").forEach((b) => b.addEventListener("click", () => {
  document.getElementById("id_model_name").value = b.dataset.model;
}));
