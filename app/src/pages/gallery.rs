//! My gallery (private by default) and the item page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{get_job, list_jobs, DeleteJob};
use crate::pages::{format_time, MembersOnly, NotFound};

#[component]
pub fn GalleryPage() -> impl IntoView {
    view! {
        <Title text="My gallery · Darkroom"/>
        <MembersOnly>
            <Gallery/>
        </MembersOnly>
    }
}

#[component]
fn Gallery() -> impl IntoView {
    let jobs = Resource::new(|| (), |_| list_jobs(Some("succeeded".into())));
    view! {
        <section class="page">
            <h1>"My gallery"</h1>
            <p class="muted">"Private: only you can see these."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = jobs.await.unwrap_or_default();
                    if list.is_empty() {
                        return view! { <p>"Nothing here yet. " <A href="/create">"Create something"</A></p> }.into_any();
                    }
                    view! {
                        <ul class="grid" data-testid="gallery">
                            {list
                                .into_iter()
                                .map(|j| {
                                    let (href, thumb) = (format!("/gallery/{}", j.id), format!("/media/{}/thumb", j.id));
                                    view! {
                                        <li class="tile" data-job-id=j.id>
                                            <A href=href>
                                                <img src=thumb alt=j.style_label loading="lazy"/>
                                            </A>
                                            <span class="label ai">"AI-generated"</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn ItemPage() -> impl IntoView {
    view! {
        <Title text="Item · Darkroom"/>
        <MembersOnly>
            <Item/>
        </MembersOnly>
    }
}

#[component]
fn Item() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let job = Resource::new(id, get_job);
    let delete = ServerAction::<DeleteJob>::new();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(j) = job.await else { return view! { <NotFound/> }.into_any() };
                let full = format!("/media/{}/result", j.id);
                let download = format!("/media/{}/result?download=1", j.id);
                view! {
                    <section class="page item">
                        <figure>
                            {(j.status == "succeeded").then(|| view! { <img src=full.clone() alt=j.style_label.clone() data-testid="result"/> })}
                            <figcaption>
                                <span class="label ai">"AI-generated"</span>
                                " "
                                <span class="label">{if j.visibility == "private" { "Private" } else { "Shared" }}</span>
                            </figcaption>
                        </figure>
                        <dl class="details">
                            <dt>"Status"</dt><dd>{crate::pages::create::status_label(&j.status)}</dd>
                            <dt>"Style"</dt><dd>{j.style_label.clone()}</dd>
                            <dt>"Strength"</dt><dd>{format!("{}%", j.strength)}</dd>
                            <dt>"Colours"</dt><dd>{if j.preserve_color { "Original kept" } else { "From the style" }}</dd>
                            <dt>"Size"</dt><dd>{match (j.width, j.height) { (Some(w), Some(h)) => format!("{w} × {h} px"), _ => "—".into() }}</dd>
                            <dt>"Cost"</dt><dd>{format!("{} credits", j.cost)}</dd>
                            <dt>"Made"</dt><dd>{format_time(j.created_at)}</dd>
                        </dl>
                        <p class="actions">
                            {(j.status == "succeeded").then(|| view! { <a class="button" href=download.clone() download data-testid="download">"Download"</a> })}
                            " "
                            <A href="/create">"Make another"</A>
                        </p>
                        <ActionForm action=delete attr:class="danger-zone">
                            <input type="hidden" name="id" value=j.id.clone()/>
                            <button type="submit" class="danger" data-testid="delete">"Delete"</button>
                            <small>" Deletes the image and its files for good."</small>
                        </ActionForm>
                    </section>
                }
                    .into_any()
            })}
        </Suspense>
    }
}
