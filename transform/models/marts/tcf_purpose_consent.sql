{{ config(enabled=var('consent_taps_gravito_enabled', true) or var('consent_taps_didomi_enabled', true)) }}
-- TCF purpose consent per source and domain (Gravito's decoded TC strings, Didomi's export users).
{{ tcf_consent('purpose', 'purpose_id') }}
